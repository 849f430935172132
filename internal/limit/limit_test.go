package limit

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestClientCapsBodies(t *testing.T) {
	tests := []struct {
		name    string
		size    int
		chunked bool
		tooBig  bool
	}{
		{name: "under", size: 99},
		{name: "exactly the cap", size: 100},
		{name: "one over", size: 101, tooBig: true},
		{name: "huge, announced", size: 1 << 20, tooBig: true},
		{name: "huge, chunked", size: 1 << 20, chunked: true, tooBig: true},
		{name: "exactly the cap, chunked", size: 100, chunked: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				if tt.chunked {
					w.(http.Flusher).Flush() // no Content-Length
				}
				_, _ = io.WriteString(w, strings.Repeat("x", tt.size))
			}))
			defer srv.Close()
			c := Client(nil, 5*time.Second, 100)
			res, err := c.Get(srv.URL)
			if err != nil {
				require.True(t, tt.tooBig, "%v", err)
				assert.True(t, TooLarge(err), "%v", err)
				return
			}
			defer res.Body.Close()
			b, err := io.ReadAll(res.Body)
			if tt.tooBig {
				assert.True(t, TooLarge(err), "%v", err)
				return
			}
			require.NoError(t, err)
			assert.Len(t, b, tt.size)
		})
	}
}

func TestClientKeepsTheGivenClient(t *testing.T) {
	base := &http.Client{Timeout: time.Second}
	c := Client(base, time.Minute, 10)
	assert.Equal(t, time.Second, c.Timeout)
	assert.Nil(t, base.Transport, "the given client is not changed")
}
