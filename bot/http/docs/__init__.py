"""What the HTTP API says about itself: the OpenAPI document, per-format body schemas and
examples, send-test samples, the offline API browser."""
