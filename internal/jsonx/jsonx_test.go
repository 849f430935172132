package jsonx

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestAppendStringMatchesEncodingJSON(t *testing.T) {
	for _, s := range []string{
		"", "plain", `q"uote`, `back\slash`, "\x00\x01\x1f", "tab\tnl\nret\r",
		"<html>&", "é世界", "\u2028\u2029", "bad\xffutf8", "\x7f",
	} {
		var back string
		require.NoError(t, json.Unmarshal(AppendString(nil, s), &back), "%q", s)
		std, _ := json.Marshal(s)
		var stdBack string
		require.NoError(t, json.Unmarshal(std, &stdBack))
		assert.Equal(t, stdBack, back, "%q decodes as encoding/json's output does", s)
	}
}
