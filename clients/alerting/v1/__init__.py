"""Generated code of the alerting.v1 protobuf package (make gen)."""
