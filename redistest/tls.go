package redistest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// certAuthority is a throwaway CA generated in memory.
type certAuthority struct {
	cert    *x509.Certificate
	key     *ecdsa.PrivateKey
	certPEM []byte
}

// pki holds everything a TLS cluster needs: the trusted CA with a certificate for the
// nodes and one for clients, and an untrusted CA whose certificate the proxy presents
// in tls-bad mode.
type pki struct {
	ca        *certAuthority
	node      tls.Certificate // signed by ca; IP 127.0.0.1 and DNS localhost; server+client auth (see hostCert)
	client    tls.Certificate // signed by ca; client auth
	bad       tls.Certificate // signed by an untrusted CA, same names as node
	caFile    string
	certFile  string
	keyFile   string
	badCAPool *x509.CertPool // trusts the bad CA (for tests that want to see the bad cert accepted)
}

func newCA(name string) (*certAuthority, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          randSerial(),
		Subject:               pkix.Name{CommonName: name, Organization: []string{"redline redistest"}},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(30 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	return &certAuthority{cert: cert, key: key, certPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}, nil
}

// localNames are the names of the harness's shared node certificate: 127.0.0.1 and
// localhost.
var localNames = sans{ips: []net.IP{net.IPv4(127, 0, 0, 1)}, dns: []string{"localhost"}}

// sans are the names a certificate is valid for.
type sans struct {
	ips []net.IP
	dns []string
}

// issue makes a certificate for cn valid for the names of localNames.
func (ca *certAuthority) issue(cn string, usage []x509.ExtKeyUsage) (tls.Certificate, []byte, []byte, error) {
	return ca.issueFor(cn, usage, localNames)
}

// issueFor makes a certificate for cn valid for names alone.
func (ca *certAuthority) issueFor(cn string, usage []x509.ExtKeyUsage, names sans) (tls.Certificate, []byte, []byte, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, nil, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: randSerial(),
		Subject:      pkix.Name{CommonName: cn, Organization: []string{"redline redistest"}},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(30 * 24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage:  usage,
		IPAddresses:  names.ips,
		DNSNames:     names.dns,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		return tls.Certificate{}, nil, nil, err
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return tls.Certificate{}, nil, nil, err
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	return pair, certPEM, keyPEM, err
}

func randSerial() *big.Int {
	n, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	return n
}

// newPKI generates the certificates and writes the files redis-server reads into dir.
func newPKI(dir string) (*pki, error) {
	ca, err := newCA("redistest CA")
	if err != nil {
		return nil, fmt.Errorf("redistest: generate CA: %w", err)
	}
	both := []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}
	node, certPEM, keyPEM, err := ca.issue("redistest node", both)
	if err != nil {
		return nil, fmt.Errorf("redistest: issue node certificate: %w", err)
	}
	client, _, _, err := ca.issue("redistest client", []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth})
	if err != nil {
		return nil, fmt.Errorf("redistest: issue client certificate: %w", err)
	}
	badCA, err := newCA("redistest untrusted CA")
	if err != nil {
		return nil, fmt.Errorf("redistest: generate untrusted CA: %w", err)
	}
	bad, _, _, err := badCA.issue("redistest node (untrusted)", both)
	if err != nil {
		return nil, fmt.Errorf("redistest: issue untrusted certificate: %w", err)
	}
	p := &pki{
		ca: ca, node: node, client: client, bad: bad,
		caFile:   filepath.Join(dir, "ca.crt"),
		certFile: filepath.Join(dir, "node.crt"),
		keyFile:  filepath.Join(dir, "node.key"),
	}
	p.badCAPool = x509.NewCertPool()
	p.badCAPool.AddCert(badCA.cert)
	for _, f := range []struct {
		path string
		data []byte
	}{{p.caFile, ca.certPEM}, {p.certFile, certPEM}, {p.keyFile, keyPEM}} {
		if err := os.WriteFile(f.path, f.data, 0o600); err != nil {
			return nil, fmt.Errorf("redistest: write %s: %w", f.path, err)
		}
	}
	return p, nil
}

// clientConfig returns a client-side TLS configuration that trusts the cluster's CA
// and presents a client certificate (needed only when the servers require one).
func (p *pki) clientConfig() *tls.Config {
	pool := x509.NewCertPool()
	pool.AddCert(p.ca.cert)
	return &tls.Config{
		RootCAs:      pool,
		Certificates: []tls.Certificate{p.client},
		MinVersion:   tls.VersionTLS12,
	}
}

// hostCert issues a node certificate, signed by the cluster's CA, valid for hostname
// alone (no IP address: a client must verify it against the hostname the node
// announces) and writes it and its key as node.crt and node.key in dir, for
// Config.Hostnames. It returns the two files.
func (p *pki) hostCert(dir, hostname string) (certFile, keyFile string, err error) {
	both := []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}
	_, certPEM, keyPEM, err := p.ca.issueFor(hostname, both, sans{dns: []string{hostname}})
	if err != nil {
		return "", "", fmt.Errorf("redistest: issue a certificate for %s: %w", hostname, err)
	}
	certFile, keyFile = filepath.Join(dir, "node.crt"), filepath.Join(dir, "node.key")
	if err := os.WriteFile(certFile, certPEM, 0o600); err != nil {
		return "", "", fmt.Errorf("redistest: write %s: %w", certFile, err)
	}
	if err := os.WriteFile(keyFile, keyPEM, 0o600); err != nil {
		return "", "", fmt.Errorf("redistest: write %s: %w", keyFile, err)
	}
	return certFile, keyFile, nil
}
