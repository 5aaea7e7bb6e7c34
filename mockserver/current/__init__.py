"""Today's Coder Chats API (coder/coder@004053e8): `openapi/current/chats.yaml`.

Here are its handlers, its wire shapes, the chat status machine it enforces and the turns a
scenario's steps become (assistant and tool messages made of content parts). The core below
(store, scheduler, scenarios, directory) is shared with the seed's generation in `mockserver.v1`.
"""
