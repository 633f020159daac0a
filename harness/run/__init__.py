"""Running the samples: manifests, builds, one traced pair (runner), the matrix of pairs,
ports, and stopping what was started."""
