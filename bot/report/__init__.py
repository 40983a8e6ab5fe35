"""The hypercare exit report: everything in one document (gather), as Markdown or HTML (render)."""
