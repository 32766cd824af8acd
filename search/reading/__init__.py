"""Reading articles: an article file (YAML front matter and an HTML body) becomes a clean ``Article``.

First stage of the pipeline: files -> articles. Nothing here knows about the index.
"""
