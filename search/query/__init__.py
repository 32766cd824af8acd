"""Queries: the query language (words, phrases, fields, operators, dates, fuzzy words), did-you-mean,
and what relevance ranks by (fields combined, feedback, recency). Query text in, one plan out.
"""
