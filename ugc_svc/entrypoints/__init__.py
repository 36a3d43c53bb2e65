"""How calls reach the UGC service: the gRPC servicer of `cinemesh.ugc.v1.UgcService`. Thin: it takes the user from
the identity the gateway verified, turns messages into domain values, calls a use case of the service layer (a
write) or a port (a read), and maps the answer; errors become gRPC statuses through `meshkit.grpc_errors`."""
