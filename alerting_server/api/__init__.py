"""gRPC servicers: protobuf stays here; the engine sees only domain types."""
