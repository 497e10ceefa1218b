"""The rating API's routes, one module per resource, each with its module-level `router`
(prefix /api/v1); egov.app.create_app includes them. The shared OpenAPI helpers and path
parameters are in surveys.routes.common."""
