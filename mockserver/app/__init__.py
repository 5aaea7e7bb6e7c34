"""The app: `create_app` and its `Settings` (factory), and the generations it can serve."""
