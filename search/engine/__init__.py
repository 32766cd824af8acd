"""The engine: a segment's postings read as whole lists and scored (BM25F, phrases, feedback,
recency, top-k), plus facets and date orders.

Query plan in, scored matches with an exact total out.
"""
