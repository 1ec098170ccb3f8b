"""The Spark engine (engine: spark, issue 17; docs/spark.md).

`session` (the SparkSession with one-line errors), `prep` (read / type-check / dedupe / counts /
popularity), `split` (the local per-user split, reproduced row for row), `als` (pyspark.ml ALS as
the fitter of `models.factor_als`), `validation` (Great Expectations on the Spark DataFrame),
`training` (the hybrid with the Spark ALS components). No ZenML or MLflow here.
"""
