"""The HTTP edge shared by every API generation: authentication, validation, Coder's error bodies.

Every refusal is raised as a domain error and answered here once, in Coder's shape, whichever
generation's document the app serves.
"""
