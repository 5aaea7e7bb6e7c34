"""A reproducible benchmark of the mock against Prism on the same OpenAPI document."""
