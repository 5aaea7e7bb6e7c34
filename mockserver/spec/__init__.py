"""Tooling for the documents themselves: `chats-mock spec validate` and `spec check-docs`."""
