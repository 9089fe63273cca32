//! The obc web app.
