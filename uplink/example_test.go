package uplink_test

import (
	"errors"
	"fmt"

	"github.com/switchtap/switchtap/uplink"
)

// ExampleNew shows the box's `uplink:` settings; records never leave the
// box in clear text, so a plain http URL is refused.
func ExampleNew() {
	cfg := uplink.Config{
		URL:   "http://central.example.gob.sv",
		BoxID: "oficina-centro",
		Token: "stb_…",
	}
	_, err := uplink.New(cfg, nil)
	fmt.Println(errors.Is(err, uplink.ErrConfig))
	// Output: true
}
