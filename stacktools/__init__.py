"""Development tools for the local stack: where it runs, how to start it, and a Jaeger
query client that returns traces as span trees. Used by the tests and the demo; not
shipped with the distro."""
