"""Reports rendered from stored evaluation runs (tables now; HTML, Excel and charts next)."""
