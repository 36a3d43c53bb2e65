"""The project's own stack runner: the mesh (services and gateway) today, real engines with the devstack work."""
