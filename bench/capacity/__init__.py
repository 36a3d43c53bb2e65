"""Capacity plan: the measured per-pod figures of docs/benchmarks.md turned into pods, nodes, partitions, shards
and disks for the load production must carry (`python -m bench.capacity`, `make capacity`)."""
