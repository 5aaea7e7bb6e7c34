"""The `chats-mock` command: its entry point, its parser and the options of `serve`."""
