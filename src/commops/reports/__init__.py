"""Reports: pages, documents and charts made from the metrics."""
