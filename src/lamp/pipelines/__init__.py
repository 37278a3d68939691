"""The Kedro pipelines of lamp, one package each (``find_pipelines`` registers them): thin nodes over the library."""
