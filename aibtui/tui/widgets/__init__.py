"""Small widgets and renderable helpers shared by the screens."""
