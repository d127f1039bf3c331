"""RVTools export import (xlsx, or a zip/folder of RVTools_tab*.csv)."""
