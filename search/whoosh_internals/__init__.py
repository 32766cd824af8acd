"""Everything that touches Whoosh's private internals, in one place.

whoosh-reloaded is pinned (2.7.5); these modules replace a few of its methods with measured faster
or corrected ones. ``reading`` applies them (``apply``); every module that opens or writes an
index goes through ``reading.open_whoosh`` / ``create_whoosh``, which apply them first.
"""
