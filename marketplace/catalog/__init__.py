"""The catalog: search and facets (search), who sees which dataset (visibility), and the pages
that show them (views, dataset_page)."""
