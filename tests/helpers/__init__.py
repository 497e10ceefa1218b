"""Helpers of the test suite, imported by test modules and by the conftest files (which only
declare fixtures): the local services, the `egov` command in-process, the rating-service
register, the demo databases, `egov serve` processes and the fault-injection tools."""
