"""Tooling around the contracts in `protos/`: the OpenAPI document built from them, and the gates that keep
what clients already use from changing under them."""
