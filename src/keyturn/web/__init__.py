"""The /app page: plain HTML, CSS and ES modules served as static files (no build step)."""
