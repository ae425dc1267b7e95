"""The tray app: a tray icon whose menu is a pure function of the app's state, the dashboard
window in a child process, and the composition root that ties them to the controller.

Nothing here imports pystray or pywebview at module level: the window's child process
imports this package, and pystray must be imported only once the display is known.
"""
