"""One module per page of the site; each has FILENAME and render(marts, rendered_at)."""
