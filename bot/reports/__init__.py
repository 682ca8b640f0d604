"""Field reports: filing, photos, exports, the weekly summary and its chart."""
