"""Dtype names as Great Expectations' expect_column_values_to_be_in_type_list understands them."""

INTEGER_TYPES = [
    "int8",
    "int16",
    "int32",
    "int64",
    "uint8",
    "uint16",
    "uint32",
    "uint64",
    "Int8Dtype",
    "Int16Dtype",
    "Int32Dtype",
    "Int64Dtype",
]
NUMERIC_TYPES = [*INTEGER_TYPES, "float32", "float64", "Float32Dtype", "Float64Dtype"]
