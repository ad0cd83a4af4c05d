"""Routes and form handling, one module per area of work."""
