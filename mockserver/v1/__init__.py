"""The seed's API generation: Coder's experimental Chats API at coder/coder@57cb8559.

Its document is `openapi/chats.yaml`; here are its handlers, its wire shapes (the V1 rows a
scenario's steps become) and its watch WebSocket.
"""
