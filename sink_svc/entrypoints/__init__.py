"""How work reaches the sink: the gRPC servicer of the analytics reads (`grpc_servicer.py`), and, to come, the
consume loop `bootstrap.py` runs beside the server, taking batches from the event source, handing each to the
service layer, and committing the source's position only after the batch is stored."""
