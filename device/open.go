package device

import (
	"errors"
	"fmt"
	"log/slog"
)

// Open returns the panel the configuration asks for, and the silence
// button if one is wired (else a nil Button). Asking for gpio on a machine
// without a chip is an error, never a fallback to the log panel.
func Open(cfg Config, log *slog.Logger) (Panel, Button, error) {
	if err := cfg.Validate(); err != nil {
		return nil, nil, err
	}
	var panel Panel
	switch cfg.Panel {
	case PanelGPIO:
		p, err := NewGPIOPanel(cfg.GPIOConfig)
		if err != nil {
			return nil, nil, fmt.Errorf("gpio panel: %w", err)
		}
		panel = p
	default:
		panel = NewLogPanel(log)
	}
	l, ok := cfg.ButtonLine()
	if !ok {
		return panel, nil, nil
	}
	b, err := NewGPIOButton(l, cfg.Debounce)
	if err != nil {
		return nil, nil, errors.Join(fmt.Errorf("silence button: %w", err), panel.Close())
	}
	return panel, b, nil
}
