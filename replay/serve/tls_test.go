package serve_test

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/etcdscope/etcdscope/replay/serve"
)

func TestTLSConfig(t *testing.T) {
	dir := t.TempDir()
	c, k := newCert(t, nil, nil, "serve", true)
	kb, err := x509.MarshalECPrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	cert, key := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(cert, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw}), 0o600)
	os.WriteFile(key, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600)

	cfg, err := serve.TLSConfig(cert, key, "")
	if err != nil || len(cfg.Certificates) != 1 || cfg.ClientAuth != tls.NoClientCert {
		t.Fatalf("without a CA: %v %+v", err, cfg)
	}
	cfg, err = serve.TLSConfig(cert, key, cert)
	if err != nil || cfg.ClientAuth != tls.RequireAndVerifyClientCert || cfg.ClientCAs == nil {
		t.Fatalf("with a CA: %v %+v", err, cfg)
	}
	if _, err := serve.TLSConfig(cert, key, key); err == nil {
		t.Error("a CA file holding no certificate is accepted")
	}
	if _, err := serve.TLSConfig(key, cert, ""); err == nil {
		t.Error("a key and a certificate swapped are accepted")
	}
	if cfg, err := serve.TLSConfig("", "", ""); cfg != nil || err != nil {
		t.Errorf("no file: %+v, %v; want no TLS", cfg, err)
	}
	for _, files := range [][3]string{{"", "", cert}, {cert, "", ""}, {"", key, cert}} {
		if _, err := serve.TLSConfig(files[0], files[1], files[2]); !errors.As(err, new(*serve.ConfigError)) {
			t.Errorf("cert %q, key %q, CA %q: %v; want a *ConfigError", files[0], files[1], files[2], err)
		}
	}
}
