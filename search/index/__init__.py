"""The index on disk: schema, generations and their atomic publication, scanning a corpus folder,
building and updating (worker processes writing segments).

Second stage: articles -> index.
"""
