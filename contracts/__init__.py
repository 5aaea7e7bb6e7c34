"""The contract suite for Coder's Chats API (filled by `chats-mock verify`)."""
