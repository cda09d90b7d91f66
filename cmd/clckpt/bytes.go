package main

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"unicode"
	"unicode/utf8"
)

// escape shows a byte string (a name, a section id) safely: as it is when it is plain printable
// text without spaces or quotes, else Go-quoted ("a b", "\x00\x01").
func escape(b []byte) string {
	if len(b) > 0 && utf8.Valid(b) {
		plain := true
		for _, r := range string(b) {
			if !unicode.IsPrint(r) || unicode.IsSpace(r) || r == '"' || r == '\\' {
				plain = false
				break
			}
		}
		if plain {
			return string(b)
		}
	}
	return strconv.Quote(string(b))
}

// byteArg reads a name or section id argument: as hexadecimal with --hex, else its bytes.
func byteArg(arg string, isHex bool, what string) ([]byte, error) {
	if !isHex {
		return []byte(arg), nil
	}
	b, err := hex.DecodeString(arg)
	if err != nil {
		return nil, usageErr(fmt.Errorf("%s %q is not hexadecimal (--hex): %w", what, arg, err))
	}
	return b, nil
}

// bytesJSON is a byte string in JSON output: escaped as in text, and in hexadecimal.
type bytesJSON struct {
	Text string `json:"text"`
	Hex  string `json:"hex"`
}

func jsonBytes(b []byte) bytesJSON { return bytesJSON{Text: escape(b), Hex: hex.EncodeToString(b)} }

// encodeData shows section data in the --format chosen: hex or base64.
func encodeData(b []byte, format string) string {
	if format == "base64" {
		return base64.StdEncoding.EncodeToString(b)
	}
	return hex.EncodeToString(b)
}

func checkFormat(format string, raw bool) error {
	switch format {
	case "hex", "base64":
		return nil
	case "raw":
		if raw {
			return nil
		}
	}
	return usageErr(fmt.Errorf("--format %q: use hex or base64%s", format, map[bool]string{true: " or raw"}[raw]))
}

// printJSON writes v as indented JSON on stdout.
func printJSON(v any) error {
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// jsonLine is v as one line of JSON.
func jsonLine(v any) (string, error) {
	b, err := json.Marshal(v)
	return string(b), err
}
