"""Steps of the Spark engine (engine: spark; docs/spark.md)."""
