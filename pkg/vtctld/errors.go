package vtctld

import (
	"errors"
	"fmt"
	"net/http"
	"syscall"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// APIError turns the error of a vtctld call into the Kubernetes API status a client of this server
// should see. action says what was being done ("creating keyspace commerce") and starts the
// message. The status code tells the client what to do next:
//   - 503 ServiceUnavailable when vtctld could not be reached, or a read got no answer in time:
//     retry later, the request itself may be fine;
//   - 504 GatewayTimeout when a write reached vtctld and got no answer: it may have been carried
//     out or still be running, so look before sending it again;
//   - 409 Conflict when Vitess refused because of the state it is in (a precondition failed, the
//     object exists, a concurrent change aborted it): look at the state, then retry;
//   - 400 BadRequest when Vitess found the request invalid: retrying will not help;
//   - 500 InternalError for everything else.
//
// Vitess' own message is kept in every case, since it is usually the only explanation there is.
// An error that already is a Kubernetes API status is returned unchanged; nil stays nil.
func APIError(err error, action string) error {
	if err == nil {
		return nil
	}
	if _, ok := err.(apierrors.APIStatus); ok {
		return err
	}
	vtctld, message := "vtctld", Message(err)
	var callErr *Error
	if errors.As(err, &callErr) {
		vtctld += " " + callErr.Address
	}
	if IsOutcomeUnknown(err) {
		return statusError(http.StatusGatewayTimeout, metav1.StatusReasonTimeout,
			fmt.Sprintf("%s: %s got the request but gave no answer (%s): it may have been carried out, or may still be running; check before sending it again", action, vtctld, message))
	}
	if IsUnavailable(err) {
		return statusError(http.StatusServiceUnavailable, metav1.StatusReasonServiceUnavailable,
			fmt.Sprintf("%s: %s unreachable: %s", action, vtctld, message))
	}
	message = action + ": " + message
	switch status.Code(err) {
	case codes.FailedPrecondition, codes.AlreadyExists, codes.Aborted:
		return statusError(http.StatusConflict, metav1.StatusReasonConflict, message)
	case codes.InvalidArgument:
		return statusError(http.StatusBadRequest, metav1.StatusReasonBadRequest, message)
	}
	return statusError(http.StatusInternalServerError, metav1.StatusReasonInternalError, message)
}

// RefusalError is APIError for an action on a workflow or shard, whose failures are almost all
// Vitess refusing because of the state things are in (reads not switched, the copy not caught up)
// and reach us with gRPC code Unknown, since Vitess raises them as plain errors: those become 409
// Conflict too.
func RefusalError(err error, action string) error {
	var callErr *Error
	if errors.As(err, &callErr) && !IsUnavailable(err) && status.Code(callErr.Err) == codes.Unknown {
		return statusError(http.StatusConflict, metav1.StatusReasonConflict, action+": "+Message(err))
	}
	return APIError(err, action)
}

func statusError(code int32, reason metav1.StatusReason, message string) *apierrors.StatusError {
	return &apierrors.StatusError{ErrStatus: metav1.Status{
		Status:  metav1.StatusFailure,
		Code:    code,
		Reason:  reason,
		Message: message,
	}}
}

// isConnectionRefused catches a refused connection that reaches us as a plain network error
// rather than a gRPC status (gRPC itself reports it as Unavailable).
func isConnectionRefused(err error) bool {
	return errors.Is(err, syscall.ECONNREFUSED)
}
