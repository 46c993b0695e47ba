"""From a fine-tuned run to a deployable model: ``export`` (merged safetensors, ONNX, int8),
``bench`` (the accuracy-vs-speed table, ``deploy.json``) and ``serve`` (a micro-batching API)."""
