"""AWS stand-ins that run on this machine, shared by the product's tests, the benchmarks and
devtools (the demo): the embedded AWS endpoint (`embedded`, a moto server) and the one Custom
Labels model fake (`custom_labels`). Nothing here imports devtools or the tests."""
