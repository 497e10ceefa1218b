"""The pure evaluation engine: DataFrames in, DataFrames out; no database, file or HTTP.

Two layers: the method registries and stage functions (`evaluation.methods`, `registry`,
`denominate`, `impute`, `treat`, `normalise`, `weights`, `aggregate`, `rank`), which the
framework model (`indicators`) validates against, and above `indicators` the engine
(`evaluation.engine.evaluate`, `spec`, `stages`, `compare`, `uncertainty`, `coherence`).
This package file imports nothing, so importing a registry never pulls in the engine.
"""
