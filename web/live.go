package web

// Hub fans the capture's live events out to /api/v1/live clients.
type Hub struct{}
