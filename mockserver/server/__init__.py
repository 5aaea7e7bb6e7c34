"""How `serve` runs the app: uvicorn held to serve's limits, its banner, its stop, its memory."""
