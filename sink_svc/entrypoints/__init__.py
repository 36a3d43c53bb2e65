"""How work reaches the sink. It has no gRPC API: its entrypoint is the consume loop `bootstrap.py` runs beside the
server (which carries health and metrics), taking batches from the event source, handing each to the service
layer, and committing the source's position only after the batch is stored."""
