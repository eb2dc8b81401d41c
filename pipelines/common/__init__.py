"""Small pieces every pipeline shares: errors, atomic files, config loading, CLI plumbing, paths."""
